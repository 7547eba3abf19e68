"""The parts an answer passes through, each with `warm_up()` and one main method `run()`.

`QAEngine` (retrieval/engine.py) wires them: a `Question` is retrieved (`QuestionRetriever`),
read (`ReaderRouter`), scored (`ConfidenceScorer`) and composed (`AnswerBuilder`).
"""
