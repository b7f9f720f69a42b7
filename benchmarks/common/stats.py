"""Statistics the benchmark reports share: the 95 % Wilson interval of a pass rate."""
import math


def wilson(k, n, z=1.96):
    """The Wilson score interval of k successes in n trials (z = 1.96: 95 %)."""
    if n == 0:
        return (0.0, 0.0)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))
