DROP TABLE api_usage_daily;
