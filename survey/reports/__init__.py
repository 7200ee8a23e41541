"""Report building blocks behind ``survey.services.reporting``.

- ``data``: a selection (unit subtree, period, desk, sector, questionnaire) checked
  against the user's scope, and the database read into the tidy table ``analysis``
  takes, with volumes, targets and comments;
- ``fmt``: numbers and dates in the reader's locale (vi_VN: 85,3%; 22/11/2026);
- ``charts``: charts as a tiny scene of shapes, drawn as SVG (web) or into a PDF;
- ``xlsx``, ``csv_export``, ``pdf``: the export formats;
- ``jobs``: large exports built in the background, with a status page.

Nothing here imports Flask except ``jobs`` (which runs inside the app); the
locale is always passed in explicitly.
"""
