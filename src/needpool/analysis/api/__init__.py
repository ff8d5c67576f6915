"""REST API v1 of the analysis desk: scores and priority, root cause, feasibility, Kano, rankings, projects.

Thin edges only: reads go through ``analysis.selectors`` and ``requirements.selectors`` (a requirement
the caller may not see is 404), writes through ``analysis.services``. The capability a write needs is
checked up front so that a caller without it gets 403 before any input error; the services check it
again. Domain validation (score ranges, weights, the 5-Whys rule …) stays in the services, whose
per-field messages come back as 400 ``{"field": ["…"]}`` with nothing written.

One module per area, each with its serializers and views: ``desk`` (scores, priority, feasibility,
compliance), ``root_cause`` (5 Whys, fishbone), ``kano``, ``settings`` (and jobs), ``rankings`` (demand,
ranked list, matrix), ``projects``; ``common`` holds the named-enum field and the shared lookups.
``needpool.api_v1`` routes them.

Routes (all under ``/api/v1/``):

- ``requirements/{id}/analysis/`` GET, PATCH (scoring inputs, pain points, value statement);
  ``…/analysis/override/`` POST; ``…/analysis/feasibility/`` PUT; ``…/analysis/compliance/`` POST
- ``requirements/{id}/whys/`` GET, PUT; ``requirements/{id}/fishbone/`` GET, PUT
- ``requirements/{id}/demand/`` GET
- ``requirements/{id}/kano/`` GET, PUT; ``requirements/{id}/kano/answers/`` POST
- ``analysis/settings/`` GET, PATCH; ``analysis/jobs/{id}/`` GET
- ``analysis/ranked/`` (paginated, the requirement list filters), ``analysis/matrix/``, ``analysis/demand/``
- ``analysis/projects/`` list, create, read, edit (no DELETE); ``…/{id}/requirements/``, ``…/{id}/summary/``
"""
