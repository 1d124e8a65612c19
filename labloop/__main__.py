from labloop.cli import main

main()
