DROP TABLE user_tenants;
DROP TABLE users;
