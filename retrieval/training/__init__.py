"""Training the extractive reader on the indexed documents themselves (`qa train-reader`)."""
