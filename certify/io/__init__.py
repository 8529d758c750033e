"""Input and output at the user boundary: validation, loaders, digests of loaded inputs."""
