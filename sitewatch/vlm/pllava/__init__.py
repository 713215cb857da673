"""PLLaVA (pooled LLaVA for video) on current transformers; torch and transformers load only when used."""
