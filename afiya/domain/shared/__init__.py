"""Building blocks every domain module may import: ids, clocks, errors, messages."""
