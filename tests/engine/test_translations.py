"""A diagram's labels by language, and what its catalogue lacks for them."""

from __future__ import annotations

from app.engine import translations

DIAGRAM = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Defs">
  <bpmn:collaboration id="Collab">
    <bpmn:participant id="Pool" name="Review" processRef="review"/>
  </bpmn:collaboration>
  <bpmn:process id="review" name="Review" isExecutable="true">
    <bpmn:laneSet id="Lanes">
      <bpmn:lane id="Lane_Clerks" name="clerks"><bpmn:flowNodeRef>Task_Check</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="Lane_Other" name="Lane 1"/>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start" />
    <bpmn:userTask id="Task_Check" name="Check" />
    <bpmn:sequenceFlow id="Flow_Yes" name="yes" sourceRef="Start" targetRef="Task_Check" />
    <bpmn:dataObject id="Data" name="Ballots" />
  </bpmn:process>
</bpmn:definitions>"""

CATALOGUE = {
    "process": {"name": {"kk": "Қарау", "ru": "Рассмотрение"}},
    "groups": {"clerks": {"kk": "Хатшылар", "ru": "Секретари", "en": "Clerks"}},
    "elements": {"Task_Check": {"name": {"kk": "Тексеру", "ru": "Проверить"}}},
}


def test_every_label_by_language() -> None:
    names = translations.diagram_names(DIAGRAM, CATALOGUE)
    assert names["Task_Check"] == {"en": "Check", "kk": "Тексеру", "ru": "Проверить"}
    assert names["Lane_Clerks"] == {"en": "Clerks", "kk": "Хатшылар", "ru": "Секретари"}  # the group's names
    assert names["Pool"] == {"en": "Review", "kk": "Қарау", "ru": "Рассмотрение"}  # the process's name
    assert names["Flow_Yes"] == {"en": "yes"}  # untranslated: the diagram's own
    assert names["Lane_Other"] == {"en": "Lane 1"}


def test_flows_and_lanes_not_named_after_a_group_need_translations() -> None:
    gaps = translations.diagram_gaps(DIAGRAM, CATALOGUE)
    assert gaps == ["Flow_Yes.name.kk", "Flow_Yes.name.ru", "Lane_Other.name.kk", "Lane_Other.name.ru"]
    partial = {**CATALOGUE, "groups": {"clerks": {"kk": "Хатшылар"}}}
    assert "groups.clerks.ru" in translations.diagram_gaps(DIAGRAM, partial)
    assert "Data" not in " ".join(gaps)  # a data object is drawn by its references, not by itself
