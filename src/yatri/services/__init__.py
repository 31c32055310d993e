"""Business rules. No HTTP here: functions take plain values, return models or raise yatri.errors."""
