"""`navtalk-loop`: the headless command line."""
