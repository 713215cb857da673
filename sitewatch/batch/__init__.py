"""Many videos at once: find them, analyse each once (resumably, in parallel or on a Ray cluster), summarise."""
