# The label program's own package, in a subdirectory of the script's (tests/render/make_label_sets.py).
