"""Writes prelude/src/random/ziggurat.rs: the tables of NumPy's Gaussian ziggurat
(`Generator.standard_normal`, 256 layers after Marsaglia & Tsang), recovered from NumPy's own
draws.

Why recovered rather than computed: NumPy's tables were generated once in double precision
and the rounding of that run is not reproduced by the defining recursion (computed here in
double or in 256-bit precision, the upper layers differ in the last 5-7 digits), and a draw on
the fast path is `rabs * wi[layer]`, so every last bit of `wi` shows in the numbers. Each
fast-path draw pins its layer's width: the one double `w` with `rabs * w == |draw|` for all of
a layer's draws (a few hundred each) is NumPy's `wi`. NumPy's `ki` and `fi` follow from `wi`
in double (checked against its published entries): `fi[i] = exp(-x_i^2 / 2)` and
`ki[i] = round(x_(i-1) / x_i * 2^52)` with `x_i = wi[i] * 2^52`.

The script then runs the ziggurat in Python on the recovered tables and checks it against
`standard_normal` draw for draw (the fast path, the wedges and the tail) before writing.

Regenerate (outside CI; versions in requirements.txt):
    /tmp/ref/bin/python tests/reference/numpy_ziggurat.py
"""

import math
import pathlib

import numpy as np

LAYERS = 256
MANTISSA = 2.0**52
# The tail's start and the layers' common area, as NumPy and Marsaglia & Tsang define them.
R = 3.6541528853610088
AREA = R * math.exp(-0.5 * R * R) + math.sqrt(math.pi / 2) * math.erfc(R / math.sqrt(2))
TARGET = pathlib.Path(__file__).parents[2] / "prelude" / "src" / "random" / "ziggurat.rs"


def defining_widths():
    """The widths from the recursion x_(i-1) = f^-1(AREA / x_i + f(x_i)): within about 1e-13
    of NumPy's, enough to tell which raw word made which draw."""
    x = [0.0] * LAYERS
    x[LAYERS - 1] = R
    for i in range(LAYERS - 1, 1, -1):
        x[i - 1] = math.sqrt(-2 * math.log(AREA / x[i] + math.exp(-0.5 * x[i] ** 2)))
    x[0] = AREA / math.exp(-0.5 * R * R)
    return [value / MANTISSA for value in x]


def limits(widths):
    x = [w * MANTISSA for w in widths]
    limit = [0] * LAYERS
    limit[0] = round(x[LAYERS - 1] / x[0] * MANTISSA)
    for i in range(2, LAYERS):
        limit[i] = round(x[i - 1] / x[i] * MANTISSA)
    return limit


def heights(widths):
    return [1.0] + [math.exp(-0.5 * (w * MANTISSA) ** 2) for w in widths[1:]]


def fast_path_draws(seeds, approximate):
    """(layer, rabs, |draw|) of draws made from one raw word, while the raw stream and the
    draws stay aligned: a seed's walk stops at its first draw that took the tail or was
    rejected (those use further words) or sits near a layer's acceptance limit."""
    limit = limits(approximate)
    found = []
    for seed in seeds:
        raw = np.random.PCG64(seed).random_raw(400).tolist()
        draws = np.random.Generator(np.random.PCG64(seed)).standard_normal(300).tolist()
        position = 0
        for draw in draws:
            word = raw[position]
            layer, sign, rabs = word & 0xFF, (word >> 8) & 1, (word >> 9) & 0x000FFFFFFFFFFFFF
            if rabs == 0 or abs(abs(draw) / rabs / approximate[layer] - 1) > 1e-11:
                break
            if (draw < 0) != bool(sign) or abs(rabs - limit[layer]) < 2**24:
                break
            if layer == 0 and rabs >= limit[0]:
                break
            found.append((layer, rabs, abs(draw)))
            # A draw past its layer's limit went through the wedge test, one more word.
            position += 1 if rabs < limit[layer] else 2
    return found


def recovered_widths():
    approximate = defining_widths()
    draws = [[] for _ in range(LAYERS)]
    for layer, rabs, value in fast_path_draws(range(2000), approximate):
        draws[layer].append((rabs, value))
    widths = []
    for layer, seen in enumerate(draws):
        assert len(seen) > 50, f"layer {layer}: only {len(seen)} draws"
        width = approximate[layer]
        for _ in range(2000):
            width = math.nextafter(width, 0.0)
        fitting = []
        for _ in range(4000):
            if all(rabs * width == value for rabs, value in seen):
                fitting.append(width)
            width = math.nextafter(width, 1.0)
        assert len(fitting) == 1, f"layer {layer}: {len(fitting)} widths fit"
        widths.append(fitting[0])
    return widths


class Ziggurat:
    """NumPy's `random_standard_normal` over a PCG64 raw stream, for the check."""

    def __init__(self, widths, seed):
        self.wi, self.ki, self.fi = widths, limits(widths), heights(widths)
        self.raw = iter(np.random.PCG64(seed).random_raw(10**6).tolist())

    def uniform(self):
        return (next(self.raw) >> 11) * (1.0 / 9007199254740992.0)

    def draw(self):
        while True:
            word = next(self.raw)
            layer, word = word & 0xFF, word >> 8
            sign, rabs = word & 1, (word >> 1) & 0x000FFFFFFFFFFFFF
            x = rabs * self.wi[layer]
            if sign:
                x = -x
            if rabs < self.ki[layer]:
                return x
            if layer == 0:
                while True:
                    xx = -(1 / R) * math.log1p(-self.uniform())
                    yy = -math.log1p(-self.uniform())
                    if yy + yy > xx * xx:
                        return -(R + xx) if (rabs >> 8) & 1 else R + xx
            elif (self.fi[layer - 1] - self.fi[layer]) * self.uniform() + self.fi[layer] < math.exp(-0.5 * x * x):
                return x


def checked(widths):
    for seed in [0, 42, 2**40 + 7]:
        ours = Ziggurat(widths, seed)
        numpys = np.random.Generator(np.random.PCG64(seed)).standard_normal(100_000)
        for i, expected in enumerate(numpys.tolist()):
            assert ours.draw() == expected, f"seed {seed}, draw {i}"
    return widths


def table(name, kind, values):
    rows = [", ".join(values[i : i + 3]) for i in range(0, len(values), 3)]
    body = "".join(f"    {row},\n" for row in rows)
    # Three to a line, as NumPy prints them; rustfmt would put each on a line of its own.
    return f"#[rustfmt::skip]\npub(super) const {name}: [{kind}; {LAYERS}] = [\n{body}];\n"


def main():
    widths = checked(recovered_widths())
    TARGET.write_text(
        "// Generated by tests/reference/numpy_ziggurat.py from NumPy's own draws; do not edit.\n"
        "//! NumPy's Gaussian ziggurat: for layer `i`, `WI[i]` scales a 52-bit draw to the layer's\n"
        "//! width, a draw below `KI[i]` lies inside the layer's rectangle, and `FI[i]` is the\n"
        "//! density at the layer's edge.\n\n"
        f"pub(super) const TAIL_START: f64 = {R!r};\n\n"
        + table("KI", "u64", [f"0x{k:016X}" for k in limits(widths)])
        + "\n"
        + table("WI", "f64", [repr(w) for w in widths])
        + "\n"
        + table("FI", "f64", [repr(f) for f in heights(widths)])
    )
    print(f"wrote {TARGET.relative_to(pathlib.Path.cwd())}")


if __name__ == "__main__":
    main()
