"""What every answer reads to know how sure it is: the index's calibration record as running
processes follow it, the model it holds, the signals it is fed, and, before any calibration,
whether the documents hold the question's words at all.

The `qa calibrate` run that writes the record lives beside it, in retrieval/calibration/.
"""
