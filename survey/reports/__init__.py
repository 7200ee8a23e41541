"""The results wing: a selection of responses -> the report -> what pages and files show.

Read top-down in pipeline order:

- ``selection``: periods, the ``Selection`` (unit subtree, period, desk, sector,
  sector group, questionnaire version), ``resolve`` with the scope check, and
  the WHERE clauses every later step reads with;
- ``frame``: the database read into the tidy table ``analysis`` takes;
- ``inputs``: transaction volumes, counted responses, targets and comments;
- ``build``: the ``Report`` (weighting rule, analysis, response rates), one
  object behind the dashboard, every export, the board and ``survey report``;
- ``texts``: every sentence a report prints, with the gettext function passed in;
- ``dashboard``: the staff dashboard's rows and charts; ``board``: the public
  board (figures, page rows and A4 poster);
- ``export``: one entry point per file format (and the JSON report), written by
  ``xlsx``, ``csv_export`` and ``pdf``; ``charts`` draws into a ``scene`` of
  shapes (SVG or PDF); ``fmt``: numbers and dates in the reader's locale;
- ``jobs``: large exports built in the background, with a status page;

Services never import this package (a test enforces it).  Nothing here imports
Flask except ``jobs`` (which runs inside the app); the locale
and the gettext function are always passed in explicitly.
"""
