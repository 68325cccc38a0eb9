"""From staging tables to indicators: respondent scores, cells with CIs, disclosure control,
journey stages and the borough partnership view. Pure functions over DataFrames and SQL."""
