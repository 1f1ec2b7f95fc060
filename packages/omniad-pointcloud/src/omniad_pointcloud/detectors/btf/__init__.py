"""BTF: Back to the Feature (Horwitz & Hoshen, 2022), memory banks of local 3D features."""
