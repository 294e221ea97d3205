"""Machine-learning adapters (numpy, LightGBM) of the PBF intelligence module.

OpenMP threads that spin while waiting collapse on a small, shared machine (a district
server, a Raspberry Pi, a busy worker): on two busy cores a 2-thread LightGBM fit ran ten
times slower than a 1-thread one. Passive waiting is asked for before LightGBM (and its
OpenMP runtime) is loaded; an explicit ``OMP_WAIT_POLICY`` in the environment still wins.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
