"""Staff pages under /staff: one module per feature; what they share is in ``plumbing``.

Every URL rule of the blueprint, by feature module (the endpoint is
``staff.<endpoint>``; ``tests/staff/test_routes.py`` checks this table
against the app's URL map, so it stays complete and true):

    method    rule (after /staff)                          endpoint          module
    GET POST  /login                                       login             auth_views
    POST      /logout                                      logout            auth_views
    GET POST  /password                                    password          auth_views

    GET       /                                            dashboard         units_views
    GET       /units                                       unit_list         units_views
    GET       /units/<int:unit_id>                         unit_detail       units_views
    GET POST  /units/<int:unit_id>/new                     unit_create       units_views
    POST      /units/<int:unit_id>/questionnaire           unit_assign       units_views

    GET POST  /units/<int:unit_id>/desks/new               desk_create       desks_views
    GET       /desks/<int:desk_id>                         desk_detail       desks_views
    POST      /desks/<int:desk_id>/rename                  desk_rename       desks_views
    POST      /desks/<int:desk_id>/move                    desk_move         desks_views
    GET POST  /desks/<int:desk_id>/deactivate              desk_deactivate   desks_views
    POST      /desks/<int:desk_id>/reactivate              desk_reactivate   desks_views
    GET POST  /desks/<int:desk_id>/regenerate              desk_regenerate   desks_views
    POST      /desks/<int:desk_id>/questionnaire           desk_assign       desks_views
    POST      /desks/<int:desk_id>/sectors                 desk_sectors      desks_views
    POST      /desks/<int:desk_id>/kiosks                  kiosk_register    desks_views
    POST      /kiosks/<int:device_id>/revoke               kiosk_revoke      desks_views
    GET       /units/<int:unit_id>/posters.pdf             unit_posters      desks_views
    GET       /desks/<int:desk_id>/poster.pdf              desk_poster       desks_views
    GET       /desks/<int:desk_id>/qr.<any(png, svg):fmt>  desk_qr           desks_views

    GET POST  /units/<int:unit_id>/targets                 targets           targets_views
    GET POST  /targets/<int:target_id>/delete              target_delete     targets_views

    GET       /sectors                                     sectors           sectors_views
    POST      /sectors                                     sector_create     sectors_views
    GET POST  /sectors/<int:sector_id>                     sector_edit       sectors_views
    POST      /sector-groups                               group_create      sectors_views
    GET POST  /sector-groups/<int:group_id>                group_edit        sectors_views

    GET       /volumes                                     volumes           volumes_views
    POST      /volumes                                     volumes_upload    volumes_views
    POST      /volumes/confirm                             volumes_confirm   volumes_views
    GET       /units/<int:unit_id>/volumes                 unit_volumes      volumes_views
    POST      /units/<int:unit_id>/volumes                 volumes_grid      volumes_views
    GET       /units/<int:unit_id>/volumes/template.<any(csv, xlsx):fmt>  volumes_template  volumes_views

    GET       /audit                                       audit_log         audit_views

    GET       /users                                       users             users_views
    GET POST  /users/new                                   user_create       users_views
    GET       /users/<int:user_id>                         user_detail       users_views
    POST      /users/<int:user_id>                         user_update       users_views
    GET POST  /users/<int:user_id>/disable                 user_disable      users_views
    POST      /users/<int:user_id>/enable                  user_enable       users_views
    GET POST  /users/<int:user_id>/reset                   user_reset        users_views

    GET       /feedback                                    feedback_inbox    feedback_views
    POST      /feedback/<int:comment_id>/status            feedback_status   feedback_views
    GET       /feedback/export.xlsx                        feedback_export   feedback_views
    GET       /feedback/<int:comment_id>                   feedback_case     feedback_views
    POST      /feedback/<int:comment_id>/reply             feedback_reply    feedback_views
    POST      /feedback/<int:comment_id>/assign            feedback_assign   feedback_views
    POST      /feedback/<int:comment_id>/note              feedback_note     feedback_views
    POST      /feedback/<int:comment_id>/kind              feedback_kind     feedback_views
    POST      /feedback/settings/<int:unit_id>             feedback_setting  feedback_views

    GET       /reports                                     reports           reports_views
    GET       /reports/export.<any(json, xlsx, pdf, docx):fmt>  report_export     reports_views
    POST      /reports/jobs                                report_job_start  reports_views
    GET       /reports/jobs/<token>                        report_job        reports_views
    GET       /reports/jobs/<token>/file                   report_job_file   reports_views
    GET       /reports/data.csv                            report_csv        reports_views
    GET       /reports/codebook.csv                        report_codebook   reports_views

``plumbing`` holds the hooks: the signed-in user (``before_request``), the
no-store and frame headers, the 403 page, the template helpers, and helpers
used by several features. The request's transaction is ``survey.web_db``'s:
it commits when the view answers below 400 and rolls back otherwise.
"""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

# Importing a module registers its routes (and, through ``plumbing``, the hooks).
from survey.staff import (  # noqa: E402,F401
    audit_views,
    auth_views,
    desks_views,
    feedback_views,
    plumbing,
    reports_views,
    sectors_views,
    targets_views,
    units_views,
    users_views,
    volumes_views,
)
