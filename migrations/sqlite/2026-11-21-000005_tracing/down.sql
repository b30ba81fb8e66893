DROP TABLE notifications;
DROP TABLE risk_windows;
DROP TABLE trace_color_changes;
DROP TABLE traces;
