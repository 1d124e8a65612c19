"""Training corpus: knowledge-base facts -> LLM-written styled texts and reasons -> number-fidelity check, dedup,
leak-free compound split, exposure accounting -> Hugging Face dataset + manifest. Entry: `build.build_corpus`."""
