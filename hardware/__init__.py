"""Qt-free drivers: motor buses, cameras, arms, the virtual rig and device discovery."""
