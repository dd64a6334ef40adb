from recoapi.cli import main

raise SystemExit(main())
