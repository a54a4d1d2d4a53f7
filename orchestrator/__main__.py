from .cli import main

# Guarded: a process the server spawns (the log writer) imports this module as __mp_main__.
if __name__ == "__main__":
    main()
