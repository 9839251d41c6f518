"""MOTChallenge reading: sequences, splits, frames and the text files beside them."""
