DROP TABLE api_rate_limits;
DROP TABLE api_tokens;
