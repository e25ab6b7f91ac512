"""Everything that turns a stock Raspberry Pi into a motcua device, and a site's broker config."""
