"""Generated page corpora and timing scripts for the pipeline's stages."""
