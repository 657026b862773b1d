"""Element symbols by atomic number (1 = H ... 118 = Og)."""

from __future__ import annotations

SYMBOLS: tuple[str, ...] = (
    "H", "He",
    "Li", "Be", "B", "C", "N", "O", "F", "Ne",
    "Na", "Mg", "Al", "Si", "P", "S", "Cl", "Ar",
    "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn",
    "Ga", "Ge", "As", "Se", "Br", "Kr",
    "Rb", "Sr", "Y", "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd",
    "In", "Sn", "Sb", "Te", "I", "Xe",
    "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy",
    "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W", "Re", "Os", "Ir", "Pt",
    "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn",
    "Fr", "Ra", "Ac", "Th", "Pa", "U", "Np", "Pu", "Am", "Cm", "Bk", "Cf",
    "Es", "Fm", "Md", "No", "Lr", "Rf", "Db", "Sg", "Bh", "Hs", "Mt", "Ds",
    "Rg", "Cn", "Nh", "Fl", "Mc", "Lv", "Ts", "Og",
)

NUMBERS: dict[str, int] = {s: z for z, s in enumerate(SYMBOLS, start=1)}


def symbol(z: int) -> str:
    """The symbol of atomic number ``z`` (1 to 118); ValueError otherwise."""
    if 1 <= z <= len(SYMBOLS):
        return SYMBOLS[z - 1]
    raise ValueError(f"no element has atomic number {z}")


def number(symbol_or_z: str | int) -> int:
    """The atomic number of an element symbol (e.g. "Fe"), or an atomic number passed through."""
    if isinstance(symbol_or_z, str):
        z = NUMBERS.get(symbol_or_z.strip().capitalize())
        if z is None:
            raise ValueError(f"unknown element symbol {symbol_or_z!r}")
        return z
    return int(symbol_or_z)
