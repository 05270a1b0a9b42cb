"""Reference data: the gazetteer layers and how the base layer is built."""
