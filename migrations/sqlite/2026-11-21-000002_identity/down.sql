DROP TABLE staff_login_failures;
DROP TABLE accounts;
DROP TABLE persons;
