"""Video-language model backends behind one protocol (`VideoLM`)."""
