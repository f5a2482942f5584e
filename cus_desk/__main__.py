import sys

from cus_desk.cli import main

sys.exit(main())
