"""Trust the map: do the CAM family's maps explain the network, and do they find the object?"""

import streamlit as st

from pages.views import trust_panels
from pages.widgets import guard, state, weights_picker

choice = state.current()

st.title("Trust the map")
st.markdown(
    "A heatmap looks convincing whatever it shows, so this page tests the Grad-CAM family two "
    "ways, on a residual net and its plain twin side by side. The **sanity check** re-draws the "
    "network's weights at random, top layer first: a map that explains the network must change "
    "with them. **Localisation** scores the maps on images where we know where the object is, "
    "against the score of a map blind to the image. Every sentence in the blue boxes is "
    "generated from the numbers on the screen and names the threshold it uses.\n\n"
    "These two tests and the Grad-CAM page's deletion curves measure different things: the "
    "sanity check asks whether a map depends on the weights at all, localisation whether it "
    "points at the object, deletion whether it found what the net uses for this one image. So "
    "a method can pass one and fail another, and they can rank the methods differently.")

weights = weights_picker.pick_or_stop(choice, "Pick other weights above.")
spec = weights.spec
st.caption(f"Using {weights.description}; network: {spec.depth} layers, {spec.image_size} px "
           f"input, on {choice.device.type}."
           + ("" if len(weights.nets()) > 1 else " These weights have no twin, so only one "
              "network is shown."))

sanity, localisation = st.tabs(["Sanity check", "Localisation"])
with sanity, guard.user_errors("Sanity check"):
    trust_panels.sanity_panel(weights, choice.device)
with localisation, guard.user_errors("Localisation"):
    trust_panels.localisation_panel(weights, choice.device)
