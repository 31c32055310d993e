from yatri.cli import main

raise SystemExit(main())
