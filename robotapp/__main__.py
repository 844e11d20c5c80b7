from robotapp.cli.main import main

raise SystemExit(main())
