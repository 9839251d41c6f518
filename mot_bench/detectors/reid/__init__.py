"""Re-ID embeddings for any detector: OSNet / BoT networks (``models``), crops (``crops``), a strict
weights loader and batched embedder (``embedder``), and the composing ``reid`` detector (``detector``)."""
