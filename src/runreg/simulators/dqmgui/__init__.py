"""A DQM GUI simulator: the sample lists of the OMS simulator's runs, appearing hours after they end."""
