"""Merging duplicate requirements (去重合并), undoing a merge, and watching a requirement.

Modules: ``services`` (the write use-cases: typed, keyword-only, atomic, audited on every requirement
involved, notices after commit), ``selectors`` (the reads that the merge page, the detail page and the
API share), ``permissions`` (who may merge, undo and watch), ``api``, ``views`` and ``urls``.

What a merge moves from each merged requirement to the survivor, recorded id by id in
``RequirementMerge.moved`` so that an undo restores exactly that:

- feedback items (so every customer, demand vote and the customer value follow: the analysis desk
  derives demand from feedback), comments, attachments;
- watchers, added to the survivor's (the merged requirement keeps its own list);
- what other apps register as merge participants (requirements.lifecycle), e.g. the analysis desk's
  Kano surveys and answers.

What stays with the merged requirement: its own fields, tags, status (the workflow is untouched; a
merged requirement leaves every list through ``merged_into``), its analysis (scores, 5 Whys,
fishbone) and its status changes and audit rows. The survivor's page shows the merged requirements'
status changes and audit rows next to its own (union display): moving them would break the
survivor's own sequence of statuses.

Undo is for admins (Cap.CONFIGURE). It moves back only the recorded ids; an item that has since been
re-linked elsewhere stays where it is and is reported (``MergeUndone.left``); feedback linked to
the survivor after the merge stays with the survivor.
"""
