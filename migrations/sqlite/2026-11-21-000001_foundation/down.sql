DROP TABLE staff_accounts;
DROP TABLE reference_data;
DROP TABLE regions;
