DROP TABLE risk_budget_allocations;
DROP TABLE risk_budgets;
