from robotapp.cli import main

raise SystemExit(main())
