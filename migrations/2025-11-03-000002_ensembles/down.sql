DROP TABLE ensemble_weight_history;
DROP TABLE ensemble_predictions;
DROP TABLE ensemble_agents;
DROP TABLE ensembles;
