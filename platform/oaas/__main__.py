from oaas.cli import main

main()
