"""The provincial service: every site's event log into PostgreSQL, a dashboard of waits across
sites, and per sector the nearby sites with shorter waits, published back to the kiosks."""
