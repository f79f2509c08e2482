wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"symbol":"BTCUSDT","signals":[{"agent_id":"momentum","signal":0.6,"confidence":0.8},{"agent_id":"meanrev","signal":-0.2,"confidence":0.5},{"agent_id":"sentiment","signal":0.3,"confidence":0.7}]}'
