"""Tourism's bytes: audio checks, speech synthesis, the shipped 3D models, and serving them."""
