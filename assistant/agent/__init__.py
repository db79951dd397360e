"""The tool-calling assistant.

    from assistant.agent import build_default_agent
    agent = build_default_agent()                    # configured model, all tools, configured store
    result = agent.run("Forecast R85123A for 8 weeks")
    result.answer, result.steps, result.artifacts, result.flags
    for event in agent.stream(question):            # tool_call / tool_result / token / answer_reset / final
        print(normalise_event(event))
"""

from assistant.agent.default import build_default_agent, citations, normalise_event
from assistant.agent.loop import Agent, AgentEvent, AgentFlag, AgentResult, AgentStep

__all__ = ["Agent", "AgentEvent", "AgentFlag", "AgentResult", "AgentStep", "build_default_agent", "citations",
           "normalise_event"]
