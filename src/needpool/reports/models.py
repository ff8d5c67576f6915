"""The reports app's own records (monthly reviews and their schedule); every figure is read, never stored here
without its computation time."""
