"""The fill pass: completes underspecified steps from defaults, the catalog and an LLM."""
