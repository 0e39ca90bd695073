'use strict';
// Narrows the handoff-target autocomplete to the characters of the owner chosen in this form
// (CharacterAdmin.get_search_results filters on it); the form still checks the owner on save.
{
    const $ = django.jQuery;
    $.ajaxPrefilter(function(options) {
        if (typeof options.data !== 'string') {
            return;
        }
        const params = new URLSearchParams(options.data);
        if (params.get('model_name') !== 'handofftarget' || params.get('field_name') !== 'target') {
            return;
        }
        const owner = document.getElementById('id_owner');
        params.set('owner', owner ? owner.value : '');
        options.data = params.toString();
    });
}
