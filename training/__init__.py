"""Training pipeline for moodtune's emotion model (Keras 3; TensorFlow, JAX or torch backend)."""
